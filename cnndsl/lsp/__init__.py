"""`cnndsl lsp`: the language server (pygls), its analysis and features."""
