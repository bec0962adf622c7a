/**
 * Everything the run page shows, loaded and kept live: the run (GET /v1/runs/:id, then its
 * event stream), its task (subtasks, escalations, usage; re-read when the stream says it
 * changed), its workflow definition, and the locks its subtasks hold (GET /v1/locks, read when
 * the page opens, then on the stream's lock events, throttled, plus a slow safety read while the
 * run runs: see lib/lock-refresh). Steps beyond the first 1000 are paged
 * in from the task's steps. Each part fails on its own: a missing definition leaves the graph
 * out, not the page.
 */
import { onBeforeUnmount, ref, shallowRef, triggerRef, watch, type Ref, type ShallowRef } from 'vue';
import { asApiError, type ApiError } from '../api/api-error';
import { openEventStream, StreamStates, type StreamState } from '../api/event-stream';
import { gateway, getJson } from '../api/gateway-client';
import type { AgentStep, DefinitionVersion, LockTable, Task, TaskUsage } from '../api/types';
import { createLockRefresh, isLockEvent, LockStreamEvents, type LockRefresh } from '../lib/lock-refresh';
import { addSteps, applyRunEvent, createRunState, RunStreamEvents, type RunState } from '../lib/run-state';
import { throttle } from './throttle';

/** The run page's data. */
export interface RunPage {
  run: ShallowRef<RunState | undefined>;
  task: Ref<(Task & { usage: TaskUsage | null }) | undefined>;
  definition: Ref<DefinitionVersion | undefined>;
  definitionError: Ref<ApiError | undefined>;
  locks: Ref<LockTable | undefined>;
  locksError: Ref<ApiError | undefined>;
  error: Ref<ApiError | undefined>;
  stream: Ref<StreamState>;
  reload(): void;
}

/** Loads the run named by `runId` (a ref: the page reloads when it changes) and keeps it live. */
export function useRunPage(runId: Ref<string>): RunPage {
  const run = shallowRef<RunState | undefined>();
  const task = ref<(Task & { usage: TaskUsage | null }) | undefined>();
  const definition = ref<DefinitionVersion | undefined>();
  const definitionError = ref<ApiError | undefined>();
  const locks = ref<LockTable | undefined>();
  const locksError = ref<ApiError | undefined>();
  const error = ref<ApiError | undefined>();
  const stream = ref<StreamState>(StreamStates.connecting);

  let generation = 0;
  let closeStream: (() => void) | undefined;
  let lockRefresh: LockRefresh | undefined;
  // Reads may overlap: an older answer must not replace a newer one.
  let lockReadsStarted = 0;
  let lockReadApplied = 0;

  // Many events arrive at once (a replay of thousands of steps): re-render once per frame.
  const render = throttle(() => triggerRef(run), 50);
  const readTask = throttle(() => void loadTask(generation), 400);

  function stop(): void {
    closeStream?.();
    closeStream = undefined;
    lockRefresh?.stop();
    lockRefresh = undefined;
    render.cancel();
    readTask.cancel();
  }

  async function loadTask(mine: number): Promise<void> {
    const taskId = run.value?.taskId;
    if (!taskId) return;
    try {
      const read = await gateway.getTask(taskId);
      if (mine === generation) task.value = read;
    } catch {
      // The run is still shown; the task's parts stay as last read.
    }
  }

  async function loadLocks(mine: number): Promise<void> {
    const order = ++lockReadsStarted;
    try {
      const table = await gateway.getLocks();
      if (mine !== generation || order < lockReadApplied) return;
      lockReadApplied = order;
      locks.value = table;
      locksError.value = undefined;
    } catch (err) {
      if (mine === generation) locksError.value = asApiError(err, 'the lock table');
    }
  }

  async function pageSteps(mine: number, taskId: string, after: string): Promise<void> {
    let cursor = after;
    while (cursor !== '' && mine === generation && run.value) {
      try {
        const page = await getJson<{ steps: AgentStep[]; nextAfter: string }>(`/v1/tasks/${encodeURIComponent(taskId)}/steps`, 'more steps', { after: cursor, limit: 1000 });
        if (mine !== generation || !run.value) return;
        addSteps(run.value, page.steps.filter((s) => s.runId === run.value?.runId));
        render.schedule();
        cursor = page.nextAfter;
      } catch {
        return;
      }
    }
  }

  async function load(): Promise<void> {
    stop();
    const mine = ++generation;
    const id = runId.value;
    error.value = undefined;
    run.value = undefined;
    task.value = undefined;
    definition.value = undefined;
    definitionError.value = undefined;
    locks.value = undefined;
    try {
      const read = await gateway.getRun(id);
      if (mine !== generation) return;
      run.value = createRunState(read);
      const state = run.value;
      void loadTask(mine);
      gateway
        .getDefinition(read.definitionName, read.definitionVersion)
        .then((d) => {
          if (mine === generation) definition.value = d;
        })
        .catch((err: unknown) => {
          if (mine === generation) definitionError.value = asApiError(err, `workflow definition ${read.definitionName}`);
        });
      if (read.stepsNextAfter && state.taskId) void pageSteps(mine, state.taskId, read.stepsNextAfter);
      const refresh = createLockRefresh({ read: () => void loadLocks(mine) });
      lockRefresh = refresh;
      refresh.start(state.status === 'running');
      let reconnecting = false;
      closeStream = openEventStream({
        url: `/v1/runs/${encodeURIComponent(id)}/events`,
        events: [...RunStreamEvents, ...LockStreamEvents],
        onState: (s) => {
          if (mine !== generation) return;
          stream.value = s;
          // Lock events sent while the stream was down are lost: read the table again.
          if (s === StreamStates.reconnecting) reconnecting = true;
          else if (s === StreamStates.live && reconnecting) {
            reconnecting = false;
            refresh.changed();
          }
        },
        onEvent: (event) => {
          if (mine !== generation || !run.value) return;
          if (isLockEvent(event.name)) {
            refresh.changed();
            return;
          }
          const effect = applyRunEvent(run.value, event);
          if (effect.changed) render.schedule();
          if (effect.taskChanged) readTask.schedule();
          if (effect.finished) {
            // The stream ends after run.finished; closing it keeps the browser from replaying it.
            closeStream?.();
            refresh.runEnded();
            readTask.schedule();
          }
        },
      });
    } catch (err) {
      if (mine === generation) error.value = asApiError(err, `run ${id}`);
    }
  }

  watch(runId, () => void load(), { immediate: true });
  onBeforeUnmount(() => {
    generation++;
    stop();
  });

  return { run, task, definition, definitionError, locks, locksError, error, stream, reload: () => void load() };
}
