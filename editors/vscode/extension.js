// The cnndsl extension: the grammar is declared in package.json; this starts
// `cnndsl lsp` (the language server) for .cnn files and passes it the settings.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function settings() {
  const config = vscode.workspace.getConfiguration("cnndsl");
  return { inlayHints: config.get("inlayHints", "layer"), docsUrl: config.get("docsUrl", "") };
}

async function activate(context) {
  const command = vscode.workspace.getConfiguration("cnndsl").get("server.command",
                                                                 ["cnndsl", "lsp"]);
  const server = { command: command[0], args: command.slice(1), transport: TransportKind.stdio };
  client = new LanguageClient("cnndsl", "cnndsl language server", server, {
    documentSelector: [{ language: "cnn" }],
    initializationOptions: settings(),
    synchronize: { configurationSection: "cnndsl" },
  });
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration("cnndsl.server.command")) {
      vscode.window.showInformationMessage("cnndsl: reload the window to use the new server command.");
    }
  }));
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `cnndsl: could not start \`${command.join(" ")}\` (pip install 'cnndsl[lsp]'): ${err.message}`);
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
