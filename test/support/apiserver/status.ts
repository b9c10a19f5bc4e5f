/** Kubernetes `Status` errors, shaped like the real API server's. */

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

const what = (kind: string, group: string) => (group === '' ? kind : `${kind}.${group}`);

export const notFound = (plural: string, group: string, name: string) =>
  new ApiError(404, 'NotFound', `${what(plural, group)} "${name}" not found`, { name, group, kind: plural });
export const alreadyExists = (plural: string, group: string, name: string) =>
  new ApiError(409, 'AlreadyExists', `${what(plural, group)} "${name}" already exists`, { name, group, kind: plural });
export const conflict = (plural: string, group: string, name: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${what(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group, kind: plural });
export const invalid = (kind: string, group: string, name: string, causes: { field: string; message: string }[]) =>
  new ApiError(422, 'Invalid', `${what(kind, group)} "${name}" is invalid: ${causes.map((cause) => `${cause.field}: ${cause.message}`).join(', ')}`,
    { name, group, kind, causes: causes.map((cause) => ({ reason: 'FieldValueInvalid', message: cause.message, field: cause.field })) });
export const gone = (message: string) => new ApiError(410, 'Expired', message);
export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');
