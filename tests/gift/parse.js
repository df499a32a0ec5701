#!/usr/bin/env node
// Parse GIFT read on stdin with gift-pegjs, a GIFT parser written independently of
// this app, and print what it found as JSON on stdout: the parser's own objects
// (Category, MC, TF, ...), unchanged. A syntax error goes to stderr with its line and
// column, and the exit status is 1.
"use strict";

const { parse, SyntaxError: GiftSyntaxError } = require("gift-pegjs");

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const text = Buffer.concat(chunks).toString("utf8");
  let questions;
  try {
    questions = parse(text);
  } catch (error) {
    if (error instanceof GiftSyntaxError && error.location) {
      const { line, column } = error.location.start;
      process.stderr.write(`GIFT syntax error at line ${line}, column ${column}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  process.stdout.write(JSON.stringify(questions));
});
