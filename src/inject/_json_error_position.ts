/**
 * Finds where JSON text stops being valid. V8's JSON.parse messages carry no position, and the
 * YAML parser accepts some invalid JSON (`{"a": }` is valid YAML), so a small scanner decides.
 */

/** The offset of the first character that makes the text invalid JSON (text.length if it ends early). */
export function jsonErrorOffset(text: string): number {
  const scanner = new JsonScanner(text);
  try {
    scanner.value();
    scanner.space();
    if (scanner.i < text.length) scanner.fail();
    return text.length;
  } catch (offset) {
    return offset as number;
  }
}

/** A recursive-descent pass over JSON that throws the offset where the text goes wrong. */
class JsonScanner {
  i = 0;
  constructor(private readonly text: string) {}

  fail(): never {
    throw this.i;
  }

  space(): void {
    while (this.i < this.text.length && " \t\n\r".includes(this.text[this.i]!)) this.i++;
  }

  value(): void {
    this.space();
    const c = this.text[this.i];
    if (c === "{") this.#object();
    else if (c === "[") this.#array();
    else if (c === '"') this.#string();
    else if (c === "t") this.#literal("true");
    else if (c === "f") this.#literal("false");
    else if (c === "n") this.#literal("null");
    else this.#number();
  }

  #object(): void {
    this.i++;
    this.space();
    if (this.text[this.i] === "}") return void this.i++;
    while (true) {
      this.space();
      if (this.text[this.i] !== '"') this.fail();
      this.#string();
      this.space();
      if (this.text[this.i] !== ":") this.fail();
      this.i++;
      this.value();
      if (this.#endOfList("}")) return;
    }
  }

  #array(): void {
    this.i++;
    this.space();
    if (this.text[this.i] === "]") return void this.i++;
    while (true) {
      this.value();
      if (this.#endOfList("]")) return;
    }
  }

  /** After an item: true past the closing bracket, false past a comma. */
  #endOfList(close: string): boolean {
    this.space();
    if (this.text[this.i] === ",") {
      this.i++;
      return false;
    }
    if (this.text[this.i] !== close) this.fail();
    this.i++;
    return true;
  }

  #literal(word: string): void {
    if (this.text.startsWith(word, this.i)) this.i += word.length;
    else this.fail();
  }

  #string(): void {
    this.i++; // opening quote
    while (this.i < this.text.length && this.text[this.i] !== '"') {
      if (this.text[this.i] === "\\") this.i++;
      else if (this.text.charCodeAt(this.i) < 0x20) this.fail();
      this.i++;
    }
    if (this.i >= this.text.length) this.fail();
    this.i++;
  }

  #number(): void {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i));
    if (!match || match[0] === "") this.fail();
    this.i += match[0].length;
  }
}
