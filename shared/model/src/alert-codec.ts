import type { Schema } from 'avsc';
import { alertSchema } from './alert.generated.js';
import type { Alert } from './alert.generated.js';
import { alertUpdateSchema } from './alert-update.generated.js';
import type { AlertUpdate } from './alert-update.generated.js';
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

/** A codec for `sequor.AlertUpdate` (a suppression window's close, `schemas/alert-update.avsc`). */
export function createAlertUpdateCodec(options: AvroCodecOptions = {}): AvroCodec<AlertUpdate> {
  return new AvroCodec<AlertUpdate>(alertUpdateSchema as unknown as Schema, options);
}
