/** An IAM / STS error as the query protocol reports it (`<Error><Type/><Code/><Message/></Error>`). */
export class IamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = code;
  }
}

/** HTTP statuses IAM uses for its error codes. */
const STATUS: Record<string, number> = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  LimitExceeded: 409,
  DeleteConflict: 409,
  ConcurrentModification: 409,
  MalformedPolicyDocument: 400,
  InvalidInput: 400,
  ValidationError: 400,
  InvalidAction: 400,
  MissingAction: 400,
  Throttling: 400,
  UnmodifiableEntity: 400,
  AccessDenied: 403,
  ServiceFailure: 500,
};

export const iamError = (code: keyof typeof STATUS, message: string): IamError => new IamError(code, message, STATUS[code] ?? 400);

export const noSuchEntity = (message: string) => iamError('NoSuchEntity', message);
export const alreadyExists = (message: string) => iamError('EntityAlreadyExists', message);
export const limitExceeded = (message: string) => iamError('LimitExceeded', message);
export const deleteConflict = (message: string) => iamError('DeleteConflict', message);
export const malformedPolicy = (message: string) => iamError('MalformedPolicyDocument', message);
export const invalidInput = (message: string) => iamError('InvalidInput', message);

/** IAM's (Coral) validation error text: `1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: ...`. */
export function validationError(field: string, value: string | undefined, constraint: string): IamError {
  const shown = value === undefined ? 'null' : `'${value}'`;
  return iamError('ValidationError', `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`);
}
