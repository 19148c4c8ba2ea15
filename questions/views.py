from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@login_required
def instructor_home(request: HttpRequest) -> HttpResponse:
    return render(request, "questions/instructor_home.html", {})


@require_GET
@login_required
def bank_list(request: HttpRequest) -> HttpResponse:
    return render(request, "questions/bank_list.html", {})
