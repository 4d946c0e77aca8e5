DOCUMENTATION = r"""
---
module: journal
short_description: TEMPORARY stand-in
version_added: 1.0.0
description: [TEMPORARY stand-in.]
options: {}
author: [hotpatch.windows developers (@hotpatch-windows)]
"""
EXAMPLES = ""
RETURN = ""
