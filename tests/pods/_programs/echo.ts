/** Echoes its standard input line by line (kubectl attach), and exits when it closes. */
const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
console.log("echo ready");
let buffer = "";
while (true) {
  const { value, done } = await reader.read();
  if (done) break;
  buffer += value;
  for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
    console.log(`echo: ${buffer.slice(0, end)}`);
    buffer = buffer.slice(end + 1);
  }
}
console.log("stdin closed");
