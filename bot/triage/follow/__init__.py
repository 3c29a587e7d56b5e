"""Follow-up reads beyond the alerted object, one module per family (network, dependencies, …), each
`reads(results) -> list[Check]`: what the answers so far point at among the object's neighbours."""
