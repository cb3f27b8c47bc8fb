/**
 * Preloaded (`node --expose-gc --import <this file>`) into the processes row 5 measures, so each
 * reports its own memory: on SIGWINCH it prints one line
 * `[memory-probe] {"rssBeforeGc":…,"rss":…,"heapUsed":…,"threads":…}` to stdout.
 * SIGWINCH, not SIGUSR2: Temporal's Worker.run() shuts the worker down on SIGUSR2 (its default
 * shutdownSignals), SIGUSR1 starts Node's inspector, and no terminal sends these processes SIGWINCH.
 *
 * Temporal's SDK runs workflows in worker threads of their own (one, with its reusable V8 context),
 * and `process.memoryUsage().heapUsed` counts only the calling thread's isolate: the workflows' heap
 * is not in the main thread's figure. Worker threads inherit the process's execArgv, so this module
 * is loaded in each of them too, and answers the main thread's request over a BroadcastChannel with
 * its own heapUsed after a full GC. RSS is the process's, threads and native (Rust core) memory in.
 *
 * Plain JavaScript, not TypeScript: tsx's loader hooks do not reach worker threads (Node 20), so a
 * `.ts` preload fails to load there, and the SDK's workflow thread with it.
 */
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

const CHANNEL = 'handoff-bench-memory-probe';
/**
 * How long the main thread waits at most for the threads' answers: a thread busy with activations,
 * or collecting a heap of a thousand workflows, answers seconds later. It stops waiting as soon as
 * every thread that announced itself has answered.
 */
const THREAD_ANSWER_MS = 30_000;
const POLL_MS = 50;

/** @typedef {{ request: number, threadId: number, heapUsed: number }} ThreadHeap */

/** A full collection when the process runs with --expose-gc; without it the figures include garbage. */
function collect() {
  globalThis.gc?.();
}

const channel = new BroadcastChannel(CHANNEL);
// Never what keeps a process alive: a worker must still exit when it is stopped.
channel.unref();

if (isMainThread) {
  let request = 0;
  /** @type {Map<number, ThreadHeap[]>} */
  const answers = new Map();
  /** Threads that loaded this module (the SDK's workflow threads start with the worker). */
  const known = new Set();
  channel.onmessage = (event) => {
    const message = event.data;
    if ('hello' in message) known.add(message.hello);
    else if ('heapUsed' in message) answers.get(message.request)?.push(message);
  };
  process.on('SIGWINCH', () => {
    const rssBeforeGc = process.memoryUsage.rss();
    request += 1;
    const current = request;
    answers.set(current, []);
    channel.postMessage({ measure: current });
    collect();
    const waitingSince = Date.now();
    const report = () => {
      const threads = answers.get(current) ?? [];
      if (threads.length < known.size && Date.now() - waitingSince < THREAD_ANSWER_MS) {
        setTimeout(report, POLL_MS);
        return;
      }
      answers.delete(current);
      collect();
      const { rss, heapUsed } = process.memoryUsage();
      const reading = {
        rssBeforeGc,
        rss,
        mainHeapUsed: heapUsed,
        threadsHeapUsed: threads.reduce((sum, thread) => sum + thread.heapUsed, 0),
        heapUsed: heapUsed + threads.reduce((sum, thread) => sum + thread.heapUsed, 0),
        threads: threads.length,
        threadsKnown: known.size,
      };
      process.stdout.write(`[memory-probe] ${JSON.stringify(reading)}\n`);
    };
    setTimeout(report, POLL_MS);
  });
} else {
  channel.postMessage({ hello: threadId });
  channel.onmessage = (event) => {
    const message = event.data;
    if (!('measure' in message)) return;
    collect();
    /** @type {ThreadHeap} */
    const answer = {
      request: message.measure,
      threadId,
      heapUsed: process.memoryUsage().heapUsed,
    };
    channel.postMessage(answer);
  };
}
