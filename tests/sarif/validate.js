// Validates SARIF documents against the official SARIF 2.1.0 JSON schema.
// usage: node validate.js FILE... ; exit 0 valid, 1 invalid, 2 validator not installed.
'use strict';
const fs = require('fs');
const path = require('path');

const schemaPath = path.join(__dirname, 'schema', 'sarif-schema-2.1.0.json');
let Ajv, addFormats, schema;
try {
  Ajv = require('ajv');
  addFormats = require('ajv-formats');
  schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
} catch (e) {
  console.error(`sarif validator not installed (${e.message}): run scripts/install-sarif-validator.sh`);
  process.exit(2);
}
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
let failed = false;
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!validate(doc)) {
    failed = true;
    for (const err of validate.errors) console.error(`${file}: ${err.instancePath} ${err.message}`);
  }
}
process.exit(failed ? 1 : 0);
