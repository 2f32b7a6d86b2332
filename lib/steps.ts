/**
 * Running step generators: long pure computations (validation, lint) are written as generators
 * that `yield` at points where a caller may pause, so one code path serves a synchronous caller
 * (the CLI, a Lambda) and a server that must keep its event loop responsive.
 */

/** Runs `it` to the end in one go. */
export function runSteps<T>(it: Generator<unknown, T>): T {
  for (;;) {
    const step = it.next();
    if (step.done) return step.value;
  }
}

/** A turn of the event loop: timers, I/O and other requests run before this resolves. */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `it` to the end, giving the event loop a turn at a yield point once `sliceMs` have passed.
 * 10 ms slices leave room in the ~100 ms a server may block for what cannot be sliced (a body's
 * JSON.parse, a garbage collection).
 */
export async function runStepsSliced<T>(it: Generator<unknown, T>, sliceMs = 10): Promise<T> {
  let sliceStart = Date.now();
  for (;;) {
    const step = it.next();
    if (step.done) return step.value;
    if (Date.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = Date.now();
    }
  }
}
