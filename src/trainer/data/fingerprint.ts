/**
 * A data set's fingerprint, recorded in run.json when a run first loads its data and compared when
 * it resumes: per image file, the sizes its IDX header declares and the SHA-256 of its first MiB
 * of (decompressed) content. Compressed and uncompressed copies of the same file agree, a different
 * or edited file does not; reading one MiB per file keeps the check fast on any data set.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { DataFingerprint, RunData } from '../../shared/run';
import { DataError } from './errors';
import type { IdxPaths } from './files';

export const FINGERPRINT_HEAD_BYTES = 1 << 20;

/** The first `limit` bytes of a file's content, decompressed when it starts with the gzip magic. */
async function head(path: string, limit: number): Promise<Buffer> {
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = createReadStream(path, { start: 0, end: 1 });
    s.on('data', (c) => void chunks.push(c as Buffer));
    s.on('error', reject);
    s.on('end', () => resolve(Buffer.concat(chunks)));
  });
  const gz = raw.length === 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const file = createReadStream(path);
    const stream = gz ? file.pipe(createGunzip()) : file;
    const finish = () => {
      file.destroy();
      if (gz) stream.destroy();
      resolve(Buffer.concat(chunks).subarray(0, limit));
    };
    file.on('error', reject);
    stream.on('error', (e: Error) => (n >= limit ? undefined : reject(e)));
    stream.on('data', (c: Buffer) => {
      if (n >= limit) return;
      chunks.push(c);
      n += c.length;
      if (n >= limit) finish();
    });
    stream.on('end', finish);
  });
}

async function fingerprintFile(path: string): Promise<DataFingerprint> {
  let bytes: Buffer;
  try {
    bytes = await head(path, FINGERPRINT_HEAD_BYTES);
  } catch (e) {
    throw new DataError(`${path}: cannot read: ${(e as Error).message}.`, path);
  }
  const dims = bytes.length >= 4 ? bytes[3] : 0;
  const sizes: number[] = [];
  for (let i = 0; i < dims && 8 + 4 * i <= bytes.length; i++) sizes.push(bytes.readUInt32BE(4 + 4 * i));
  return { sizes, headSha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The fingerprint of a data set's image files (labels do not change what a VAE learns). */
export async function fingerprintData(paths: Pick<IdxPaths, 'trainImages' | 'testImages'>): Promise<RunData['files']> {
  const [trainImages, testImages] = await Promise.all([fingerprintFile(paths.trainImages), fingerprintFile(paths.testImages)]);
  return { trainImages, testImages };
}

/**
 * How two fingerprints differ, in words (empty when they agree). `files`: the fingerprints are of an
 * images: folder's sets, whose first size is a number of files.
 */
export function fingerprintDifferences(recorded: RunData['files'], now: RunData['files'], files = false): string[] {
  const out: string[] = [];
  for (const role of ['trainImages', 'testImages'] as const) {
    const a = recorded[role];
    const b = now[role];
    const what = role === 'trainImages' ? 'training images' : 'test images';
    const added = (b.sizes[0] ?? 0) - (a.sizes[0] ?? 0);
    if (files && added !== 0 && a.sizes.slice(1).join('×') === b.sizes.slice(1).join('×')) {
      const n = Math.abs(added);
      out.push(`${what}: ${n} file${n > 1 ? 's' : ''} ${added > 0 ? 'added' : 'removed'} (${a.sizes[0]} when the run started, ${b.sizes[0]} now)`);
    } else if (a.sizes.join('×') !== b.sizes.join('×')) out.push(`${what}: ${a.sizes.join('×')} when the run started, ${b.sizes.join('×')} now`);
    else if (files && a.headSha256 !== b.headSha256) out.push(`${what}: the same number of files (${a.sizes[0]}) but some renamed, replaced or edited`);
    else if (a.headSha256 !== b.headSha256) out.push(`${what}: same sizes (${a.sizes.join('×')}) but different pixels`);
  }
  return out;
}
