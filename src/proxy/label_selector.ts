/**
 * Label selectors in Kubernetes' string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`),
 * parsed once and matched against a label map. Pure.
 */

/** One requirement of a selector. */
export type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

/** A parsed selector: every requirement must hold. */
export type Selector = Requirement[];

const KEY =
  /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Parses a selector; throws with the offending part. */
export function parseSelector(text: string): Selector {
  const requirements: Selector = [];
  for (const part of splitTopLevel(text)) {
    const item = part.trim();
    if (item === "") continue;
    let match: RegExpExecArray | null;
    if ((match = /^(\S+?)\s+(in|notin)\s+\((.*)\)$/.exec(item))) {
      const values = match[3]!.split(",").map((v) => v.trim()).filter((v) => v !== "");
      values.forEach((v) => checkValue(v, item));
      requirements.push({ key: checkKey(match[1]!, item), op: match[2] as "in" | "notin", values });
    } else if ((match = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(item))) {
      requirements.push({
        key: checkKey(match[1]!, item),
        op: match[2] === "!=" ? "!=" : "=",
        value: checkValue(match[3]!, item),
      });
    } else if ((match = /^!\s*(\S+)$/.exec(item))) {
      requirements.push({ key: checkKey(match[1]!, item), op: "!exists" });
    } else if (KEY.test(item)) {
      requirements.push({ key: item, op: "exists" });
    } else {
      throw new Error(`Invalid label selector "${text}": cannot read "${item}"`);
    }
  }
  return requirements;
}

/** True when the labels satisfy every requirement. */
export function matchesSelector(selector: Selector, labels: Record<string, string>): boolean {
  return selector.every((requirement) => {
    const present = Object.hasOwn(labels, requirement.key);
    const value = labels[requirement.key];
    switch (requirement.op) {
      case "=":
        return value === requirement.value;
      case "!=":
        return value !== requirement.value;
      case "in":
        return present && requirement.values.includes(value!);
      case "notin":
        return !present || !requirement.values.includes(value!);
      case "exists":
        return present;
      case "!exists":
        return !present;
    }
  });
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function checkKey(key: string, item: string): string {
  if (!KEY.test(key)) {
    throw new Error(`Invalid label selector: "${key}" in "${item}" is not a valid label key`);
  }
  return key;
}

function checkValue(value: string, item: string): string {
  if (!VALUE.test(value) || value.length > 63) {
    throw new Error(`Invalid label selector: "${value}" in "${item}" is not a valid label value`);
  }
  return value;
}
