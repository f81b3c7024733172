import { ConfigError } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import { KAFKA_CONFIG_DEFAULTS, kafkaConfigFromEnv } from '../src/config.js';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    kafkaConfigFromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('kafkaConfigFromEnv', () => {
  it('needs only KAFKA_BROKERS and fills in the documented defaults', () => {
    const config = kafkaConfigFromEnv({ KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(config).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'sequor',
      tls: undefined,
      sasl: undefined,
      connectionTimeoutMs: KAFKA_CONFIG_DEFAULTS.connectionTimeoutMs,
      requestTimeoutMs: KAFKA_CONFIG_DEFAULTS.requestTimeoutMs,
    });
  });

  it('splits and trims a broker list, accepting names, IPv4 and bracketed IPv6', () => {
    const config = kafkaConfigFromEnv({ KAFKA_BROKERS: ' kafka-0.kafka:9092, 10.0.0.7:19092 ,[::1]:9093' });
    expect(config.brokers).toEqual(['kafka-0.kafka:9092', '10.0.0.7:19092', '[::1]:9093']);
  });

  it.each([
    [undefined, 'unset'],
    ['', 'empty'],
    ['localhost', 'no port'],
    ['localhost:0', 'port 0'],
    ['localhost:65536', 'port out of range'],
    ['a:9092,,b:9092', 'empty entry'],
    ['http://a:9092', 'a URL'],
  ])('rejects KAFKA_BROKERS=%j (%s) naming the variable', (value, _why) => {
    const error = configError({ KAFKA_BROKERS: value });
    expect(error.variable).toBe('KAFKA_BROKERS');
    expect(error.message).toMatch(/^KAFKA_BROKERS=/);
  });

  it('reads the client id and timeouts, and rejects bad ones', () => {
    const config = kafkaConfigFromEnv({
      KAFKA_BROKERS: 'k:9092',
      KAFKA_CLIENT_ID: 'detector-7',
      KAFKA_CONNECTION_TIMEOUT_MS: '10000',
      KAFKA_REQUEST_TIMEOUT_MS: '45000',
    });
    expect([config.clientId, config.connectionTimeoutMs, config.requestTimeoutMs]).toEqual([
      'detector-7',
      10000,
      45000,
    ]);
    expect(configError({ KAFKA_BROKERS: 'k:9092', KAFKA_CLIENT_ID: 'has space' }).variable).toBe(
      'KAFKA_CLIENT_ID',
    );
    expect(configError({ KAFKA_BROKERS: 'k:9092', KAFKA_REQUEST_TIMEOUT_MS: '30s' }).variable).toBe(
      'KAFKA_REQUEST_TIMEOUT_MS',
    );
    expect(configError({ KAFKA_BROKERS: 'k:9092', KAFKA_CONNECTION_TIMEOUT_MS: '0' }).variable).toBe(
      'KAFKA_CONNECTION_TIMEOUT_MS',
    );
  });

  it('enables TLS with files, and rejects half a client certificate', () => {
    const config = kafkaConfigFromEnv({
      KAFKA_BROKERS: 'k:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/ca.pem',
      KAFKA_SSL_CERT_FILE: '/etc/client.pem',
      KAFKA_SSL_KEY_FILE: '/etc/client.key',
      KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
    });
    expect(config.tls).toEqual({
      caFile: '/etc/ca.pem',
      certFile: '/etc/client.pem',
      keyFile: '/etc/client.key',
      rejectUnauthorized: false,
    });
    expect(kafkaConfigFromEnv({ KAFKA_BROKERS: 'k:9093', KAFKA_SSL: '1' }).tls?.rejectUnauthorized).toBe(
      true,
    );
    const half = configError({
      KAFKA_BROKERS: 'k:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CERT_FILE: '/etc/client.pem',
    });
    expect(half.variable).toBe('KAFKA_SSL_KEY_FILE');
  });

  it('refuses TLS files without KAFKA_SSL=true rather than connecting in plaintext', () => {
    const error = configError({ KAFKA_BROKERS: 'k:9093', KAFKA_SSL_CA_FILE: '/etc/ca.pem' });
    expect(error.variable).toBe('KAFKA_SSL');
    expect(error.expected).toContain('KAFKA_SSL_CA_FILE');
    expect(configError({ KAFKA_BROKERS: 'k:9093', KAFKA_SSL: 'yes' }).variable).toBe('KAFKA_SSL');
  });

  it('reads SASL settings for each mechanism', () => {
    for (const mechanism of ['plain', 'SCRAM-SHA-256', 'scram-sha-512']) {
      const config = kafkaConfigFromEnv({
        KAFKA_BROKERS: 'k:9092',
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: 'sequor',
        KAFKA_SASL_PASSWORD: 's3cret',
      });
      expect(config.sasl).toEqual({
        mechanism: mechanism.toLowerCase(),
        username: 'sequor',
        password: 's3cret',
      });
    }
  });

  it('rejects incomplete or unknown SASL settings and never echoes the password', () => {
    expect(configError({ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'gssapi' }).variable).toBe(
      'KAFKA_SASL_MECHANISM',
    );
    expect(
      configError({ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'x' })
        .variable,
    ).toBe('KAFKA_SASL_USERNAME');
    const noPassword = configError({
      KAFKA_BROKERS: 'k:9092',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
    });
    expect(noPassword.variable).toBe('KAFKA_SASL_PASSWORD');
    const orphan = configError({
      KAFKA_BROKERS: 'k:9092',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'hunter2',
    });
    expect(orphan.variable).toBe('KAFKA_SASL_MECHANISM');
    expect(orphan.message).not.toContain('hunter2');
  });
});
