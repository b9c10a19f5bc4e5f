/** Reads the operator's settings from its Deployment's container arguments (`--flag=value` or `--flag value`). */

export function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
    if (arg === flag) return args[index + 1];
  }
  return undefined;
}

export const hasFlag = (args: readonly string[], flag: string): boolean => args.includes(flag);
