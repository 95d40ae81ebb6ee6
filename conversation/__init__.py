"""What the agents (agents/) write and lean on while they talk: turn taking, the call log and
the snapshot that makes a call resumable. LiveKit lives here and in agents/, worker/, telephony/.
"""
