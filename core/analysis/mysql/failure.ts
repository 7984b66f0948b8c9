// Thrown inside the analyser to abandon a command; analyseMysql turns it into `error` or `forbidden`.

export class AnalysisFailure extends Error {
  /** true: the command must be denied whatever the policy says; false: it cannot be analysed. */
  readonly forbidden: boolean;

  constructor(message: string, forbidden = false) {
    super(message);
    this.name = 'AnalysisFailure';
    this.forbidden = forbidden;
  }
}

export function fail(message: string): never {
  throw new AnalysisFailure(message);
}

export function forbid(message: string): never {
  throw new AnalysisFailure(message, true);
}
