/** Bad flags or bad config: one clear line naming the field, exit code 2 (the design's contract). */
export const USAGE_EXIT_CODE = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function reportUsageError(error: unknown): never {
  if (error instanceof UsageError) {
    process.stderr.write(`badgateway: ${error.message}\n`);
    process.exit(USAGE_EXIT_CODE);
  }
  process.stderr.write(`badgateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
