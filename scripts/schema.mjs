// Writes the JSON Schemas in schemas/ from the project's own schemas, so what the editor (and anyone
// writing a run folder) validates against is exactly what VAE Lens accepts:
//   vae-config.schema.json  *.vae.json files (contributes.jsonValidation), configJsonSchema() in src/shared/config.ts
//   run.schema.json         a run folder's run.json, runJsonSchema() in src/shared/run.ts
//   event.schema.json       one line of events.jsonl, eventJsonSchema() in src/shared/events.ts
// Run by scripts/build.mjs; `node scripts/schema.mjs --check` fails when a committed file is stale.
import * as esbuild from 'esbuild';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Buffer } from 'node:buffer';

export const SCHEMA_PATH = 'schemas/vae-config.schema.json';
export const RUN_SCHEMA_PATH = 'schemas/run.schema.json';
export const EVENT_SCHEMA_PATH = 'schemas/event.schema.json';

/** The text of each generated schema file, by path. */
export async function schemaTexts(root) {
  const entry = "export { configJsonSchema } from './src/shared/config'; export { runJsonSchema } from './src/shared/run'; export { eventJsonSchema } from './src/shared/events';";
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts' }, bundle: true, write: false, format: 'esm', platform: 'neutral', logLevel: 'warning',
  });
  const url = 'data:text/javascript;base64,' + Buffer.from(result.outputFiles[0].text).toString('base64');
  const { configJsonSchema, runJsonSchema, eventJsonSchema } = await import(url);
  const text = (value) => JSON.stringify(value, null, 2) + '\n';
  return {
    [SCHEMA_PATH]: text(configJsonSchema()),
    [RUN_SCHEMA_PATH]: text(runJsonSchema()),
    [EVENT_SCHEMA_PATH]: text(eventJsonSchema()),
  };
}

export async function configSchemaText(root) {
  return (await schemaTexts(root))[SCHEMA_PATH];
}

/** Writes the schemas that changed; returns whether any did. */
export async function writeSchemas(root) {
  let wrote = false;
  for (const [path, text] of Object.entries(await schemaTexts(root))) {
    const file = join(root, path);
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    wrote = true;
  }
  return wrote;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  if (process.argv.includes('--check')) {
    for (const [path, text] of Object.entries(await schemaTexts(root))) {
      const file = join(root, path);
      if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
        console.error(`${path} is out of date with the schema in src/shared; run npm run build.`);
        process.exit(1);
      }
    }
  } else if (await writeSchemas(root)) console.log('[vae-lens] wrote the schemas in schemas/');
}
