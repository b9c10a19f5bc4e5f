/**
 * Writes ConfigMap data into a folder exactly the way the kubelet does for a configMap volume:
 * each update goes into a fresh `..<timestamp>` directory, a `..data_tmp` symlink to it is renamed
 * over `..data` (an atomic swap), and every key is a symlink `<key> -> ..data/<key>`.
 */
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let counter = 0;

export async function writeKubeletVolume(directory: string, data: Record<string, string>): Promise<void> {
  await mkdir(directory, { recursive: true });
  counter += 1;
  const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${process.pid}_${counter}`;
  const payload = join(directory, stamp);
  await mkdir(payload);
  for (const [key, value] of Object.entries(data)) await writeFile(join(payload, key), value);
  let previous: string | undefined;
  try {
    previous = await readlink(join(directory, '..data'));
  } catch {
    previous = undefined;
  }
  await rm(join(directory, '..data_tmp'), { force: true });
  await symlink(stamp, join(directory, '..data_tmp'));
  await rename(join(directory, '..data_tmp'), join(directory, '..data'));
  for (const key of Object.keys(data)) {
    await symlink(join('..data', key), join(directory, key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  if (previous !== undefined) await rm(join(directory, previous), { recursive: true, force: true });
}
