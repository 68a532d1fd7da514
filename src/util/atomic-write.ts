import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LaunchproofError } from '../errors.ts';

/**
 * Writes a file whole: to a temporary file beside it, then a rename, so a reader never sees a
 * half-written file, and a crash leaves the old file (or none), never a torn one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new LaunchproofError(
      'LP_ERR_RESULTS_WRITE',
      `could not write ${path}: ${reason(error)}`,
      {
        cause: error,
        hint: 'check that the results folder is writable and the disk is not full',
      },
    );
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
