/**
 * The mock provider in a process of its own, for the streams cell:
 * `provider-server.ts '<ProviderOptions JSON>'`. Prints its URL after READY_MARKER and runs
 * until SIGTERM. Listens on 127.0.0.1 (the provider's default).
 */
import { type ProviderOptions, startProvider } from '../../src/provider/index.ts';
import { READY_MARKER } from './process.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as ProviderOptions;
const provider = await startProvider({ ...options, host: '127.0.0.1' });
process.stdout.write(`${READY_MARKER} ${provider.url}\n`);
process.once('SIGTERM', () => {
  void provider.close().then(() => process.exit(0));
});
