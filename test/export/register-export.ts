// Registers `launchproof export` in the CLI the way src/cli/main.ts does once the command is
// listed there; loaded with --import by the CLI test only while main.ts does not list it.

import type { Command } from '../../src/cli/command.ts';
import { registerCommand } from '../../src/cli/main.ts';

registerCommand('export', {
  summary: 'export a scenario as a k6 script (for distributed runs)',
  load: async () =>
    (await import('../../src/cli/commands/export.ts')).exportCommand as unknown as Command,
});
