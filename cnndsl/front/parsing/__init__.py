"""The parser's parts: `tables` (Lark's LALR parser, its post-lexer and its prebuilt
tables), `transform` (the Lark tree -> the syntax tree), `errors` (syntax errors in
the language's own words). `cnndsl.front.parser.parse` puts them together."""
