/**
 * The yaml library's parse errors name the line and column, then end their first line with ":"
 * before an excerpt of the input. One line for the user: the first, without the dangling colon.
 */
export function yamlProblem(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
}
