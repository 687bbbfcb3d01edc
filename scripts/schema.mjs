// Writes schemas/vae-config.schema.json (contributes.jsonValidation for *.vae.json) from
// configJsonSchema() in src/shared/config.ts, so the editor validates exactly what the trainer accepts.
// Run by scripts/build.mjs; `node scripts/schema.mjs --check` fails when the committed file is stale.
import * as esbuild from 'esbuild';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Buffer } from 'node:buffer';

export const SCHEMA_PATH = 'schemas/vae-config.schema.json';

export async function configSchemaText(root) {
  const result = await esbuild.build({
    entryPoints: [join(root, 'src/shared/config.ts')], bundle: true, write: false, format: 'esm', platform: 'neutral', logLevel: 'warning',
  });
  const url = 'data:text/javascript;base64,' + Buffer.from(result.outputFiles[0].text).toString('base64');
  const { configJsonSchema } = await import(url);
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}

/** Writes the schema when it changed; returns whether it did. */
export async function writeConfigSchema(root) {
  const text = await configSchemaText(root);
  const file = join(root, SCHEMA_PATH);
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  if (process.argv.includes('--check')) {
    const file = join(root, SCHEMA_PATH);
    const stale = !existsSync(file) || readFileSync(file, 'utf8') !== (await configSchemaText(root));
    if (stale) {
      console.error(`${SCHEMA_PATH} is out of date with configJsonSchema(); run npm run build.`);
      process.exit(1);
    }
  } else if (await writeConfigSchema(root)) console.log(`[vae-lens] wrote ${SCHEMA_PATH}`);
}
