/** A training config checked before anything uses it: ConfigError names every invalid field. */
import { validateConfig, type TrainConfig } from '../shared/config';

/** An invalid config: every invalid field, each with its allowed values. */
export class ConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(`Invalid configuration:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The config, validated; throws ConfigError naming every invalid field. */
export function validatedConfig(raw: unknown): TrainConfig {
  const result = validateConfig(raw);
  if (!result.ok) throw new ConfigError(result.errors);
  return result.config;
}
