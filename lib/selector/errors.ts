/** The one error type the selector engine throws for bad input. */
export class SelectorSyntaxError extends Error {
  /** 0-based character (UTF-16 code unit) offset into the selector text where the problem starts. */
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.name = 'SelectorSyntaxError';
    this.position = position;
  }
}
