"""The summary table: `report` (text, HTML, the JSON report of `check`),
`markup` (Markdown, CSV and LaTeX for papers and READMEs).
"""
