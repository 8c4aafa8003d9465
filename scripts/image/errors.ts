/**
 * Errors the image tools report to the user as one line with exit status 2:
 * bad arguments, missing or malformed inputs, images they refuse to touch.
 * Anything else that escapes is a bug and keeps its stack trace.
 */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageError";
  }
}

/** A command-line usage problem (unknown flag, missing value, ...). */
export class UsageError extends ImageError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Node's fs errors carry a `code` such as ENOENT; those are user errors too. */
export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string";
}

/** One-line description of an error the CLIs report with exit status 2. */
export function userErrorMessage(e: unknown): string | null {
  if (e instanceof ImageError) return e.message;
  if (isFsError(e)) return e.message;
  return null;
}
