// The embedded demo's own thread runs launchproof's TypeScript sources as the main thread
// does: register tsx for this thread, then start the stack.
import { register } from 'tsx/esm/api';

register();
await import('./demo-thread.ts');
