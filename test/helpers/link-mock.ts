// Serial ports made by @serialport/binding-mock, for framing and dispatch tests without a pty:
// single ports that record writes, and a crossed pair where each side's writes arrive at the other.
import { SerialPortMock } from 'serialport';

/** The parts of binding-mock's port we use (serialport loads its own copy of the binding). */
export interface MockPortBinding {
  recording: Buffer;
  emitData(data: Buffer): void;
  write(buffer: Buffer): Promise<void>;
}

let serial = 0;

export async function openMock(record = true): Promise<{ port: SerialPortMock; binding: MockPortBinding }> {
  const path = `/dev/mock-link-${++serial}`;
  SerialPortMock.binding.createPort(path, { record, echo: false });
  const port = new SerialPortMock({ path, baudRate: 115200 });
  await new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject));
  return { port, binding: port.port as unknown as MockPortBinding };
}

/** Two mock ports wired like a null-modem cable. */
export async function openMockPair(): Promise<{ a: SerialPortMock; b: SerialPortMock; close(): Promise<void> }> {
  const a = await openMock(false);
  const b = await openMock(false);
  cross(a.binding, b.binding);
  cross(b.binding, a.binding);
  return {
    a: a.port,
    b: b.port,
    close: async () => {
      await new Promise((r) => a.port.close(r));
      await new Promise((r) => b.port.close(r));
    },
  };
}

function cross(from: MockPortBinding, to: MockPortBinding): void {
  const write = from.write.bind(from);
  from.write = async (buffer: Buffer) => {
    await write(buffer);
    to.emitData(Buffer.from(buffer));
  };
}

/** Waits until `binding` has recorded at least `n` bytes more than `from` (or times out). */
export async function recorded(binding: MockPortBinding, minBytes: number, timeoutMs = 2000): Promise<Buffer> {
  const t0 = Date.now();
  while (binding.recording.length < minBytes) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`mock port recorded ${binding.recording.length} bytes, expected ${minBytes} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return binding.recording;
}
