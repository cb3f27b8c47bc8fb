import { CancellationScope, log } from '@temporalio/workflow';

/**
 * Undo steps, added as each step of a flow succeeds and run in reverse when it fails
 * (style.md, the `saga` sample): "hang up the group call we created".
 */
export interface Saga {
  add(summary: string, undo: () => Promise<unknown>): void;
  /** Runs every undo step, newest first, even while the workflow is being cancelled. */
  compensate(): Promise<void>;
}

export function createSaga(): Saga {
  const steps: Array<{ summary: string; undo: () => Promise<unknown> }> = [];
  return {
    add(summary, undo) {
      steps.push({ summary, undo });
    },
    async compensate() {
      await CancellationScope.nonCancellable(async () => {
        for (const step of [...steps].reverse()) {
          try {
            await step.undo();
          } catch (error) {
            log.error('compensation failed', { step: step.summary, error: String(error) });
          }
        }
      });
    },
  };
}
