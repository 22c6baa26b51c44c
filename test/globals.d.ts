// The one WebAssembly API the tests use (page-aligned memory for O_DIRECT), which
// the ES2022 lib and @types/node do not declare.
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
  }
}

// Resizable ArrayBuffers (ES2024, in Node 20), which the ES2022 lib does not declare.
interface ArrayBufferConstructor {
  new (byteLength: number, options: { maxByteLength: number }): ArrayBuffer;
}
interface ArrayBuffer {
  resize(newByteLength: number): void;
}
