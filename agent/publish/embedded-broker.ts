// An in-process MQTT 3.1.1 broker (aedes) for when no broker URL is configured: the agent works out of
// the box and any subscriber on the machine can still connect.
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export class EmbeddedBroker {
  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  static async start(host: string, port: number): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        broker.close();
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `embedded MQTT broker: ${host}:${port} is already in use (another broker? set mqtt.url to use it, or mqtt.embeddedPort: 0 for any free port)`
              : `embedded MQTT broker: cannot listen on ${host}:${port}: ${err.message}`,
          ),
        );
      });
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    return new EmbeddedBroker(broker, server, host, typeof addr === 'object' && addr ? addr.port : port);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
