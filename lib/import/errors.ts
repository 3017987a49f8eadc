/**
 * A refusal: input or configuration the import cannot use, with what to do about it. The CLI prints the
 * message alone (no stack trace) and exits 2; nothing has been written when one is thrown before the
 * scan starts (inputs and target are checked first).
 */
export class ImportError extends Error {}
