#!/usr/bin/env node
// The bench runs from TypeScript sources like the CLI: tsx compiles them on the fly, and each
// tool's child process registers tsx itself (bench/lib/process.ts).
import { register } from 'tsx/esm/api';

register();
await import('../bench/index.ts');
