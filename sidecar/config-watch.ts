/**
 * Hot reload of the config file as mounted from a ConfigMap. The kubelet updates such volumes by
 * atomically swapping a `..data` symlink in the directory, so the directory is watched (a watch on
 * the file would follow the old inode), with a slow poll as a safety net for missed events.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readConfigText } from './config-file.js';
import { basename, dirname } from 'node:path';
import type { Logger } from '../api/logger.js';

export interface ConfigWatcher {
  close(): void;
}

export interface ConfigWatchOptions {
  path: string;
  /** The text the current configuration came from, so a change right after start-up is not missed. */
  initialText: string | undefined;
  /** Called with the new file content when it changed since the last call. */
  onChange(text: string | undefined): void;
  logger: Logger;
  debounceMs?: number;
  pollMs?: number;
}

export function watchConfigFile(options: ConfigWatchOptions): ConfigWatcher {
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 10_000;
  const directory = dirname(options.path);
  let lastText = options.initialText;
  let debounce: NodeJS.Timeout | undefined;
  let closed = false;
  let watcher: FSWatcher | undefined;

  const check = async (): Promise<void> => {
    let text: string | undefined;
    try {
      text = await readConfigText(options.path);
    } catch (error) {
      options.logger.warn({ error: (error as Error).message, file: options.path }, 'cannot read the config file; keeping the current config');
      return;
    }
    if (closed || text === lastText) return;
    lastText = text;
    options.onChange(text);
  };

  const schedule = (): void => {
    if (closed) return;
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(() => void check(), debounceMs);
    debounce.unref();
  };

  const startWatch = (): void => {
    try {
      watcher = watch(directory, { persistent: false }, (_event, file) => {
        // ..data swaps, ..TIMESTAMP dirs and direct writes to the file all matter.
        if (file === null || file.startsWith('..') || file === basename(options.path)) schedule();
      });
      watcher.on('error', (error) => {
        options.logger.warn({ error: error.message, directory }, 'config watch failed; polling only');
        watcher?.close();
        watcher = undefined;
      });
    } catch (error) {
      options.logger.warn({ error: (error as Error).message, directory }, 'cannot watch config directory; polling only');
    }
  };

  startWatch();
  const poll = setInterval(() => {
    if (watcher === undefined) startWatch();
    void check();
  }, pollMs);
  poll.unref();

  return {
    close(): void {
      closed = true;
      if (debounce !== undefined) clearTimeout(debounce);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
