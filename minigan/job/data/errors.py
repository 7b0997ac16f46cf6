"""The one exception type of the data layer.

Everything a user can get wrong about data (a missing or truncated file, a
failed download, a folder with no pictures) raises :class:`DatasetError`, and
its message names the file or folder and says what to do about it. A caller
such as the training CLI can catch this one type and print the message.

Mistakes in the *arguments* a program passes (``batch_size=0``, ``size=-1``)
are programming errors and raise the usual ``ValueError``/``TypeError``.
"""


class DatasetError(Exception):
    """A dataset file or folder is missing, unreadable, corrupt, or could not be downloaded."""
