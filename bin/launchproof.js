#!/usr/bin/env node
// launchproof runs from its TypeScript sources: tsx compiles them (and users' scenario
// files) on the fly, so neither the project nor its users need a build step.
import { register } from 'tsx/esm/api';

register();
const { runProcess } = await import('../src/cli/main.ts');
await runProcess();
