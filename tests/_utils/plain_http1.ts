/** The HTTP/1.1 server of src/http1 on a plain loopback socket, for handler tests without TLS. */
import net, { type Socket } from "node:net";
import { type Http1Handlers, serveConnection } from "../../src/http1/http1_server.ts";

/** A listening server and a way to connect to it. */
export interface PlainHttp1Server {
  port: number;
  connect(): Promise<Socket>;
  close(): Promise<void>;
}

/** Serves every connection with `handlers` on 127.0.0.1 and a free port. */
export async function servePlainHttp1(handlers: Http1Handlers): Promise<PlainHttp1Server> {
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    serveConnection(socket, handlers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const clients = new Set<Socket>();
  return {
    port,
    connect: () =>
      new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
        clients.add(socket);
        socket.once("error", reject);
      }),
    async close() {
      for (const socket of [...clients, ...sockets]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
