// One error shape for the HTTP API: a status code and a message naming the problem, sent as
// {"error": message, "status": code}.
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
