/** A finished child process's exit code and its output as text. */
export interface TextOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Decodes a child's output (UTF-8, invalid bytes replaced). */
export function textOutput(output: Deno.CommandOutput): TextOutput {
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
