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

/** Runs `it` to the end, giving the event loop a turn at a yield point once `sliceMs` have passed. */
export async function runStepsSliced<T>(it: Generator<unknown, T>, sliceMs = 20): Promise<T> {
  let sliceStart = Date.now();
  for (;;) {
    const step = it.next();
    if (step.done) return step.value;
    if (Date.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = Date.now();
    }
  }
}
