from . import phone
from . import clinic_time
from . import recall_sql
from . import batch_create
