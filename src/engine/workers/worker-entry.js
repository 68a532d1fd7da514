// A worker thread runs launchproof's TypeScript sources as the main thread does: register
// tsx for this thread, then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
