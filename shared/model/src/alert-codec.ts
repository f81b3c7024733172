import type { Schema } from 'avsc';
import { alertSchema } from './alert.generated.js';
import type { Alert } from './alert.generated.js';
import { AvroCodec } from './codec.js';
import type { AvroCodecOptions } from './codec.js';

/** A codec for `sequor.Alert` with the current schema as reader: the detector's and the CLI's one alert codec. */
export function createAlertCodec(options: AvroCodecOptions = {}): AvroCodec<Alert> {
  return new AvroCodec<Alert>(alertSchema as unknown as Schema, options);
}

/** The alert schema with its docs and defaults (what a schema registry should be given), as JSON text. */
export function alertSchemaText(): string {
  return JSON.stringify(alertSchema);
}
