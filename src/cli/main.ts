// The `skiff` command: dispatches to one file per subcommand.
import { runServer } from './server.js';

const USAGE = `Usage: skiff <command> [flags]

Commands:
  up        control plane plus a local node, in the foreground (Ctrl-C stops everything)
  server    the control plane alone (API server, controllers, scheduler)
  agent     a node joining a running control plane (--runtime sim: simulated nodes)
  version   print the Kubernetes version Skiff is compatible with

Run 'skiff <command> --help' for its flags.
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up':
      return runServer(rest, 'up');
    case 'server':
      return runServer(rest, 'server');
    case 'agent':
      return (await import('./agent.js')).runAgent(rest);
    case 'version': {
      const { KUBERNETES_VERSION } = await import('../apiserver/server.js');
      process.stdout.write(`skiff 0.1.0 (Kubernetes ${KUBERNETES_VERSION.gitVersion})\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`skiff: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
      return 2;
  }
}

// Run directly (`tsx src/cli/main.ts up …`): the installed bin calls main() itself.
if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    process.stderr.write(`skiff: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
