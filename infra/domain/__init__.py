"""The platform's rules as plain data and functions: regions and their topology, the routing
table, tenant routes, CDN cache rules, Redis ACLs, database sizing, the RTO model, naming,
the stack-output and application contracts, the failover state table's shape and its
permissions, and how bad input is reported.

Nothing here touches Pulumi or boto3, so the program, its components, the operator tools,
the Lambda and the tests all import it; it imports nothing of the project but itself and
the stand-alone `resolver`.
"""
