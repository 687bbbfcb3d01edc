/**
 * A problem with the data a user can act on: a missing, truncated or foreign file, a download
 * that failed, a checksum that does not match. The message names the file or URL and what to
 * change; the trainer shows it as is.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  /** The file or URL the problem is about, when there is one. */
  readonly file?: string;

  constructor(message: string, file?: string) {
    super(message);
    this.file = file;
  }
}

/** The error an aborted load rejects with, as fetch and Node's streams do. */
export function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const error = new Error('The data set load was cancelled.');
  error.name = 'AbortError';
  return error;
}
