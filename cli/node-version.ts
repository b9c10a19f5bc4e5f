/** The Node.js the CLI needs (package.json `engines`), and the one line that says how to get it. */
export const REQUIRED_NODE_MAJOR = 24;

export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(version.split('.')[0]);
  if (Number.isInteger(major) && major >= REQUIRED_NODE_MAJOR) return undefined;
  return `needs Node.js ${REQUIRED_NODE_MAJOR} or newer, this is ${version}: in a checkout run \`npx badgateway\` `
    + `(its node devDependency provides Node.js ${REQUIRED_NODE_MAJOR}), or use the image, or install Node.js ${REQUIRED_NODE_MAJOR}`;
}
