// Validates an AsyncAPI document with the AsyncAPI project's own parser and its Avro schema parser.
// The parser checks the document, resolves the $ref'd .avsc files and converts them; for AsyncAPI 3
// documents it does not run the Avro parser's own validation (parser-js 3.6 wires that rule to v2
// only), so this script runs it on every message payload itself.
// Prints every diagnostic to stderr and, when valid, a JSON summary to stdout that
// tests/unit/consumer/test_asyncapi.py compares with schemas/. Exit status: 0 valid, 1 invalid.
// Usage: node tools/node/validate-asyncapi.mjs schemas/asyncapi.yaml
import { Parser, fromFile } from "@asyncapi/parser";
import { AvroSchemaParser } from "@asyncapi/avro-schema-parser";

const ERROR = 0;
const avroParser = AvroSchemaParser();
const parser = new Parser();
parser.registerSchemaParser(avroParser);
const { document, diagnostics } = await fromFile(parser, process.argv[2]).parse();
const problems = diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message, path: d.path }));
const channels = [];
for (const channel of document ? document.channels().all() : []) {
  const messages = [];
  for (const message of channel.messages().all()) {
    const payload = message.payload();
    // The Avro schema as the parser resolved it from the referenced .avsc, before its conversion.
    const avro = payload?.json()?.["x-parser-original-payload"] ?? null;
    const path = ["channels", channel.id(), "messages", message.id(), "payload"];
    for (const issue of avro ? await avroParser.validate({ data: avro, path }) : [{ message: "no Avro payload", path }]) {
      problems.push({ severity: ERROR, code: "avro-schema", message: issue.message, path: issue.path });
    }
    messages.push({
      id: message.id(),
      contentType: message.contentType(),
      schemaFormat: payload?.schemaFormat() ?? null,
      avro,
      key: message.bindings().get("kafka")?.value()?.key ?? null,
    });
  }
  channels.push({ id: channel.id(), address: channel.address(),
                  topic: channel.bindings().get("kafka")?.value()?.topic ?? null, messages });
}
for (const p of problems) console.error(JSON.stringify(p));
if (!document || problems.some((p) => p.severity === ERROR)) process.exit(1);
const operations = document.operations().all().map((op) => ({
  id: op.id(), action: op.action(), channels: op.channels().all().map((c) => c.id()),
  compression: op.bindings().get("kafka")?.value()?.["x-compression-type"] ?? null,
}));
console.log(JSON.stringify({ channels, operations }));
